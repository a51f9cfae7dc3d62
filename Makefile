# DiffusionSR — build, test and data targets. Each target installs what it needs (Debian packages
# through apt-get, the NIQE parameters from the basicsr sdist on PyPI) when it is missing.
#   make run    the main job on embedded defaults: the shipped model on a sample image, and the ×4 benchmark
#   make test   build and run the whole test suite

SHELL := /bin/bash
SWIFT ?= swift
DEBIAN_PACKAGES := libpng-dev libjpeg62-turbo-dev libdnnl-dev libopenblas-dev libopenblas0-openmp
# Only the tests need a browser (the report.html check renders the page headless).
TEST_PACKAGES := chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
NIQE_PARAMS := .cache/niqe/niqe_pris_params.npz
BASICSR_SHA256 := b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87
DIFFSR := .build/release/diffsr

.PHONY: all deps test-deps build test run results data niqe-params clean

all: build

deps: PACKAGES = $(DEBIAN_PACKAGES)
deps: APT_FLAGS =
test-deps: PACKAGES = $(TEST_PACKAGES)
test-deps: APT_FLAGS = --no-install-recommends
test-deps: deps
deps test-deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_FLAGS) $$missing >/dev/null; \
	fi

$(NIQE_PARAMS):
	@mkdir -p .cache/niqe
	@sdist=$$(python3 Tools/pypi_sdist.py basicsr 1.4.2 $(BASICSR_SHA256) .cache/niqe) && \
	  tar -xzf "$$sdist" -O basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz > $@.part && mv $@.part $@
	@echo "niqe-params: $@"

niqe-params: $(NIQE_PARAMS)

build: deps
	$(SWIFT) build -c release --product diffsr

test: test-deps niqe-params
	$(SWIFT) build --build-tests
	DIFFSR_NIQE_PARAMS=$(CURDIR)/$(NIQE_PARAMS) $(SWIFT) test --skip-build

data: build
	Tools/data/fetch.sh .cache/data
	$(DIFFSR) prepare-data --source .cache/data/root --manifest Datasets/manifest.tsv --output data

# make run: the default model on the bundled sample (result + side by side with bicubic, scored
# against its ground truth), then the ×4 benchmark of test-photo (table and report.html; about 10
# minutes on 2 cores with the SR3 model). `make results` runs every set (docs/results/).
RUN_METHODS ?= bicubic,lanczos,regression,sr3
RUN_SUITES ?= test-photo
RUN := .cache/run
run: data niqe-params
	@mkdir -p $(RUN)
	$(DIFFSR) upscale Samples/coffee.png --side-by-side --output $(RUN)/coffee_x4.png
	$(DIFFSR) evaluate --sr $(RUN)/coffee_x4.png --hr Samples/coffee-hr.png --lr Samples/coffee.png --scale 4 \
	  --metrics psnr,ssim,consistency --niqe-params $(NIQE_PARAMS)
	@echo "sample: $(RUN)/coffee_x4.png, side by side with bicubic: $(RUN)/coffee_x4_vs_bicubic.png"
	for suite in $(RUN_SUITES); do \
	  $(DIFFSR) benchmark --suite $$suite --methods $(RUN_METHODS) --niqe-params $(NIQE_PARAMS) --output $(RUN)/$$suite || exit 1; \
	  echo "report: $(RUN)/$$suite/report.html"; \
	done

# make results: regenerates docs/results/ (the committed benchmark of the shipped models; long).
results: data niqe-params
	DIFFSR=$(DIFFSR) NIQE_PARAMS=$(NIQE_PARAMS) Tools/results.sh

clean:
	rm -rf .build .cache/run
