"""Pages that read several apps (the admin's *Store today*) and the web app manifest: above the
apps, imported by none of them."""
