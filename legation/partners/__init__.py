"""Partner sharing services: publish our incidents into TAXII collections, pull and push."""
