"""Reading inputs and writing outputs behind small protocols (imports only ``core``)."""
