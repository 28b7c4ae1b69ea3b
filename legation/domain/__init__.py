"""Plain typed models and the vocabularies (taxonomies, weights) loaded from data files."""
