"""Registered cart devices, pairings and scans. Models arrive with the devices issue."""
