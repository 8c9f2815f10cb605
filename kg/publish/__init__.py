"""Publishing an export: the HTML report page and the dataset description (VoID, DCAT)."""
