# Shorthands for the two README commands.
.PHONY: demo test
demo:
	python3 scripts/demo
test:
	python3 scripts/test
