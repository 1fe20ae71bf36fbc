"""The directory service: applies DirectoryUpdates to the directory tables and loads routing snapshots.
No XML here (gateway.ingest.directory_xml reads the documents)."""
