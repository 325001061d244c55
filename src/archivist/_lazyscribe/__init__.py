"""The lazyscribe compatibility layer: lazyscribe's names and behaviour on the native core."""
