#!/usr/bin/env python3
"""`cdk synth` / `cdk deploy` entry point (cdk.json runs it with the project's virtualenv)."""

from cdk.app import build_app

build_app().synth()
