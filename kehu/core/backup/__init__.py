"""Verified backups and restores (issue 15): `kehu backup`, `kehu restore`, the scheduled backup.

- archive.py    the archive: a tar of the database, the media files and a sealed manifest
- checksums.py  per-table row counts and checksums, the same on an original and its restore
- engines.py    SQLite (online backup API) and PostgreSQL (pg_dump --snapshot of the server's version)
- service.py    create_backup (then verify), verify_archive, restore_archive
- retention.py  which archives to keep (7 daily, 4 weekly, 12 monthly by default)
- jobs.py       the daily job, its record (BackupRun) and the administrators' notice on failure
- views.py      the Backups page and the My day card for administrators (right backup.view)
"""
