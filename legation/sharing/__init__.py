"""Partner sharing engine: STIX 2.1 mapping and TLP 2.0 rules. Pure: no database, no HTTP."""
