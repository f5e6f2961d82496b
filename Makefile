# Set-up and the two everyday commands. Every target makes its own virtual environments.
#   make deploy-local   the main job on the local AWS
#   make test           the test suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
TASKCAT_VENV := .venv-taskcat
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: setup test deploy-local aws-proof style bench clean constraints

setup: $(VENV)/.ready $(CHECKOV_VENV)/.ready $(TASKCAT_VENV)/.ready

$(VENV)/.ready: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -c constraints.txt -e '.[dev]'
	touch $@

# checkov pins an old boto3, so it gets a virtual environment of its own
$(CHECKOV_VENV)/.ready: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-checkov.txt
	touch $@

# taskcat pins jsonschema<4 and urllib3<2 (moto 5 needs newer), so it too gets its own
$(TASKCAT_VENV)/.ready: requirements-taskcat.txt
	$(PYTHON) -m venv $(TASKCAT_VENV)
	$(TASKCAT_VENV)/bin/pip install $(PIP_FLAGS) -r requirements-taskcat.txt
	touch $@

# one worker per core (pytest-xdist), each with its own local AWS; a test file stays on one
# worker, so a module's shared deployment is made once
test: setup
	AWS_EC2_METADATA_DISABLED=true $(BIN)/pytest -q -n auto --dist loadfile

# the main job on the local AWS; the server keeps running for more commands ('mirror-infra local
# stop' ends it)
deploy-local: $(VENV)/.ready
	AWS_EC2_METADATA_DISABLED=true; export AWS_EC2_METADATA_DISABLED; \
	$(BIN)/mirror-infra local status >/dev/null 2>&1 || $(BIN)/mirror-infra local start
	$(BIN)/mirror-infra build --all
	$(BIN)/mirror-infra lint
	$(BIN)/mirror-infra bootstrap --local
	$(BIN)/mirror-infra plan --local; test $$? -ne 1
	$(BIN)/mirror-infra apply --local --yes
	$(BIN)/mirror-infra outputs --local
	$(BIN)/mirror-infra verify --local
	$(BIN)/mirror-infra smoke --local --yes

# the tool's life on an AWS account, through an AWS profile (README: "A proof on your account");
# writes aws-proof/junit.xml and aws-proof/summary.md, and deletes all it made
aws-proof: $(VENV)/.ready
	@if [ -z "$(PROFILE)" ] || [ -z "$(REGION)" ]; then \
	  echo "usage: make aws-proof PROFILE=<aws profile> REGION=<aws region>" >&2; exit 1; fi
	AWS_EC2_METADATA_DISABLED=true $(BIN)/python -m proof --profile '$(PROFILE)' --region '$(REGION)'

style: $(VENV)/.ready
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# awscli (the deploy benchmark's baseline) pins its own botocore: a venv of its own
.venv-bench/.ready:
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install $(PIP_FLAGS) awscli==1.46.3
	touch $@

# every figure with its baseline and ratio (>= 5 interleaved pairs each); the JSON lands in
# build/bench.json, and 'python bench/table.py build/bench.json' renders the README's table
bench: $(VENV)/.ready .venv-bench/.ready
	mkdir -p build
	AWS_EC2_METADATA_DISABLED=true $(BIN)/python bench/run.py --deploy --paced --out build/bench.json

clean:
	rm -rf build .pytest_cache

# re-pin every transitive dependency after changing pyproject.toml
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin
	.venv-pin/bin/pip install $(PIP_FLAGS) -e '.[dev]'
	(echo "# Every package the project installs, pinned. Regenerate: make constraints"; \
	 .venv-pin/bin/pip freeze --exclude-editable) > constraints.txt
	rm -rf .venv-pin
