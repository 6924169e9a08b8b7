"""Auditor access log: an append-only, hash-chained table of audit page use

Revision ID: 0007
Revises: 0006
