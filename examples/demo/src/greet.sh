#!/bin/sh
# The demo project: a tiny shell tool the workstreams grow.
echo "Hello, ${1:-world}"
