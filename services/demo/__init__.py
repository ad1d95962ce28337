"""The browser SDK's demo: a small course player that `make run` serves beside the gateway."""
