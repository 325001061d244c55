"""lazyscribe's sorted linked-list helpers (``lazyscribe.linked``), kept for code importing them.

Neither lazyscribe 2.2.2 nor archivist uses them itself.
"""

from __future__ import annotations

from typing import Any

from attrs import define

__all__ = ["LinkedList", "Node", "merge"]


@define
class Node:
    """One node of a linked list.

    Parameters
    ----------
    data : Any, optional
        The value.
    next : Node or None, optional
        The following node.
    """

    data: Any = None
    next: Node | None = None

    def to_list(self) -> list[Any]:
        """Return the values from this node to the end, in order.

        Returns
        -------
        list[Any]
            The values.
        """
        out: list[Any] = []
        node: Node | None = self
        while node is not None:
            out.append(node.data)
            node = node.next
        return out


@define
class LinkedList:
    """A singly linked list.

    Parameters
    ----------
    head : Node or None, optional
        The first node.
    """

    head: Node | None = None

    def append(self, data: Any) -> None:
        """Append a value at the end.

        Parameters
        ----------
        data : Any
            The value.
        """
        new = Node(data=data)
        if self.head is None:
            self.head = new
            return
        node = self.head
        while node.next is not None:
            node = node.next
        node.next = new

    @staticmethod
    def from_list(data: list[Any]) -> LinkedList:
        """Return a linked list of the values of ``data``, sorted.

        Parameters
        ----------
        data : list[Any]
            The values.

        Returns
        -------
        LinkedList
            The list.
        """
        out = LinkedList()
        for value in sorted(data):
            out.append(value)
        return out


def merge(list1: Node | None, list2: Node | None) -> Node | None:
    """Merge two sorted linked lists into one sorted list (reusing their nodes).

    Parameters
    ----------
    list1, list2 : Node or None
        The heads of the two lists.

    Returns
    -------
    Node or None
        The head of the merged list; on ties, ``list2``'s node comes first, as in lazyscribe.
    """
    head = Node()
    current = head
    while list1 is not None and list2 is not None:
        if list1.data < list2.data:
            current.next, list1 = list1, list1.next
        else:
            current.next, list2 = list2, list2.next
        current = current.next
    current.next = list1 if list1 is not None else list2
    return head.next
