-- The sweep of unreferenced blobs asks, for each blob, whether an arrival points at it.
CREATE INDEX exchange_inbox_package ON exchange_inbox(package_sha256);
