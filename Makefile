# fangkong: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs the whole
# suite on SQLite and PostgreSQL. Each target sets up what it needs on a fresh Debian machine.

.PHONY: run test demo messages clean

run:
	scripts/run.sh

test:
	scripts/test.sh

demo:
	scripts/venv.sh
	.venv/bin/fangkong migrate --noinput
	.venv/bin/fangkong demo

messages:
	scripts/messages.sh

clean:
	rm -rf .venv var
