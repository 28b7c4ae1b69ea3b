"""Getting reports and registries in: files, folders, feeds, web pages, the push endpoint."""
