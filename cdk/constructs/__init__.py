"""One construct per concern; `cdk.stack` wires them together."""
