"""Network definitions. Each module holds one family; branches (microgesture.branches) decide which one a modality
uses."""
