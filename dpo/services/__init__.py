"""The DPO's write services, one module per register the DPO keeps."""
