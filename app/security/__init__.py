"""Roles, the permission matrix and the perimeter filter: who may do what, on which rows."""
