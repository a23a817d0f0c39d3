"""One module per export kind; importing it registers its importer (see ingest.importers)."""
