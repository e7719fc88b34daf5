"""The DPO's admin: one module per register the DPO keeps."""
