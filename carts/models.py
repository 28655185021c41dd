"""Carts and their lines. Models arrive with the carts issue."""
