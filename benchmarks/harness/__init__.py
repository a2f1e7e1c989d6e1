"""Shared benchmark harness: programs on a pty read by a terminal emulator, process-tree CPU
and RSS from /proc, a synthetic Nextmv API, the real local service, the floor app, and
figures printed as median [min..max] with paired ratios. Everything is measured through the
process boundary (pty, HTTP), so the harness does not depend on the monitor's internals."""
