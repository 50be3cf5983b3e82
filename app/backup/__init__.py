"""Backup and restore of one tenant's data as JSON lines (app.backup.services), by `flask tenant`
(app.backup.cli) and a Super Admin's action on the tenants list."""
