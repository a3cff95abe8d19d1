"""Local stand-ins for the AWS services, each behind the port its AWS adapter also implements.

Import the module you need (`autotagger.local.bucket`, `.events`, `.stream`, `.dlq`); this package
imports nothing itself so that `import autotagger.local.runtime` stays cheap.
"""
