"""The AWS deployment of autotagger (aws-cdk-lib v2): `app.py` builds `stack.AutotaggerStack`.

Named `cdk` (the library is `aws_cdk`): one construct per concern under `cdk/constructs/`.
"""
