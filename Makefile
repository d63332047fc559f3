# Every target creates .venv from the pinned requirements first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export OMP_NUM_THREADS ?= 2

.PHONY: venv system book browser-check lab lab-sweep test lint bench references exercises release collect grade \
        feedback check-ps lock clean cpu-check student-package exchange

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# MathJax 3, RequireJS and the ipywidgets HTML manager for the book, the exact versions pinned in
# package.json and package-lock.json; the site serves its own copies (scripts/book_ext.py), never a CDN.
MATHJAX := node_modules/mathjax/package.json
$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Executes the lessons whose code or rnnlib changed, two at a time, into the cache the build reads
# (jupyter-cache keyed on both; see _config.yml), then builds every page from a fresh Sphinx environment
# (--all, so cached lessons raise their warnings again) and fails on any cell error, stderr output or
# warning; check_book.py looks for instructor material.
BOOK_JOBS ?= 2
# Training loops show their finished progress bar as text in the book (rnnlib/display/progress.py).
book: export RNNLIB_STATIC_PROGRESS = 1
book: $(STAMP) $(MATHJAX)
	rm -rf _build/html _build/.doctrees
	$(BIN)/python scripts/execute_lessons.py --jobs $(BOOK_JOBS)
	$(BIN)/jupyter-book build . --all -W --keep-going
	$(BIN)/python scripts/check_book.py

# Opens every page of the built book in headless Chromium with the network blocked (math, images, cell
# outputs, links, instructor material); screenshots in _build/screenshots. Run after `make book`.
browser-check: $(STAMP)
	$(BIN)/python scripts/browser_check.py

# JupyterLab from this environment, with MyST Markdown lessons opening as notebooks (jupytext).
# Extra options go in LAB_ARGS, e.g. `make lab LAB_ARGS=--allow-root` on a machine where you are root.
lab: $(STAMP)
	$(BIN)/jupytext-config --settings-file $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json \
	  set-default-viewer markdown myst
	$(BIN)/jupyter lab $(LAB_ARGS)

# The full sweep of chapter 6's long-range lab (RNN, LSTM, GRU on the adding problem and temporal order at
# increasing lengths, 3 seeds; about 17 minutes of CPU time, so under 10 minutes on two idle cores, longer on a
# busy machine). Rewrites rnnlib/data/lab_sweep.csv, whose
# header records the command, seeds and versions; the chapter plots it next to its own reduced run.
lab-sweep: $(STAMP)
	$(BIN)/python scripts/lab_sweep.py --workers 2

# The lessons that train (every chapter from 2 on) and the tests that train, once more with torch and
# oneDNN held to other CPU kernels than the machine's own: CPU=default (baseline, SSE4.1) or CPU=avx2.
# Kernels change the last bits of every sum, and a training run amplifies them, so a lesson that asserts
# what only one CPU produces fails here (.ci/run runs it with CPU=default).
CPU ?= default
CPU_ISA_default := SSE41
CPU_ISA_avx2 := AVX2
TRAINING_LESSONS := chapters/02_bptt.md chapters/03_gradient_decay.md chapters/04_lstm.md chapters/05_gru.md \
                    chapters/06_lab.md chapters/07_practice.md chapters/08_generating.md \
                    chapters/09_recurrence_today.md
TRAINING_TESTS := tests/test_lab.py tests/test_lab_sweep.py tests/test_decay_runs.py tests/test_practice.py \
                  tests/test_language_model.py tests/test_reviews.py tests/test_optim.py \
                  tests/test_dropout.py tests/test_seq2seq.py tests/test_mingru.py tests/test_lru.py
cpu-check: export ATEN_CPU_CAPABILITY = $(CPU)
cpu-check: export ONEDNN_MAX_CPU_ISA = $(CPU_ISA_$(CPU))
cpu-check: export RNNLIB_STATIC_PROGRESS = 1
cpu-check: $(STAMP)
	@test -n "$(CPU_ISA_$(CPU))" || { echo "CPU must be default or avx2, not '$(CPU)'"; exit 2; }
	@$(BIN)/python -c "import torch; print('torch kernels:', torch.backends.cpu.get_cpu_capability(), \
	  '(ATEN_CPU_CAPABILITY=$(CPU), ONEDNN_MAX_CPU_ISA=$(CPU_ISA_$(CPU)))')"
	$(BIN)/python scripts/run_lesson.py $(TRAINING_LESSONS)
	$(BIN)/python -m pytest -q $(TRAINING_TESTS)

# Debian packages the tests need (bubblewrap for sandboxed grading, postgresql, chromium); installs what is
# missing when run as root or with sudo, else says what to install.
system:
	bash scripts/install_system_deps.sh

# Two test processes (pytest-xdist), each running whole test files, so that a file's graded class is built once.
TEST_JOBS ?= 2
test: $(STAMP) $(MATHJAX) system
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=20

lint: $(STAMP)
	$(BIN)/ruff check .

# Some machines force an older OpenBLAS kernel (OPENBLAS_CORETYPE) to dodge bugs of old builds; the
# pinned numpy does not need it, so the benchmark lets OpenBLAS pick (the table header names the kernel).
# Tests and lessons keep the machine's setting.
bench: $(STAMP) system
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/bench_cells.py
	$(BIN)/python bench/bench_grading.py

# Rewrites grader/references/*.json (hidden cases, reference outputs) and grader/visible/*.json from rnnlib
# and the instructor notebooks, bit for bit, then regenerates exercises/. With a course secret (GRADER_SECRET,
# or a file named by c.Grader.secret_file in nbgrader_config.py) the hidden inputs derive from the secret and
# the references go to secret-references/ instead, which grading then reads (grader/secret.py).
references: $(STAMP)
	$(BIN)/python -m grader.references
	$(MAKE) exercises

exercises: $(STAMP)
	$(BIN)/python scripts/make_exercises.py

# ---- instructors: one command per step (PS=<problem set>, e.g. PS=ps1_recurrence) ----
check-ps:
	@test -n "$(PS)" || { echo "say which problem set: make $(MAKECMDGOALS) PS=ps1_recurrence"; exit 2; }

# The students' package, dist/rnn_course_student-<version>-py3-none-any.whl: what test cells import
# (check, the comparison, the visible cases) and nothing else; the build fails if instructor material is in it.
student-package: $(STAMP)
	$(BIN)/python scripts/student_package.py

# The course on a shared server, run once as root (scripts/server_layout.py): the exchange outside the course
# folder (EXCHANGE_ROOT, default c.Exchange.root of nbgrader_config.py: /srv/nbgrader/exchange) with nbgrader's
# permissions, the students' nbgrader_config.py with the course id and that root installed system-wide
# (STUDENT_CONFIG, default /etc/jupyter/nbgrader_config.py), and this folder readable by the staff's group only
# (COURSE_GROUP, default rnn-course-staff, created if missing; INSTRUCTOR releases; GRADERS=a,b join the group).
exchange: $(STAMP)
	$(BIN)/python scripts/server_layout.py $(if $(COURSE_ROOT),--course-root $(COURSE_ROOT),) \
	  $(if $(EXCHANGE_ROOT),--exchange-root $(EXCHANGE_ROOT),) $(if $(STUDENT_CONFIG),--student-config $(STUDENT_CONFIG),) \
	  $(if $(COURSE_GROUP),--group $(COURSE_GROUP),) $(if $(INSTRUCTOR),--instructor $(INSTRUCTOR),) \
	  $(if $(GRADERS),--members $(GRADERS),)

# Register the problem set in the gradebook and copy the student version to the exchange, with the
# students' package next to the notebooks.
release: $(STAMP) check-ps
	$(BIN)/nbgrader generate_assignment $(PS) --force
	$(BIN)/nbgrader release_assignment $(PS) --force
	$(BIN)/python scripts/student_package.py --release $(PS)

# Gather the submissions from the exchange into submitted/<student>/$(PS)/, copying links as links (never
# what they point at) and leaving pipes and devices out (grader/exchange.py, set in nbgrader_config.py).
collect: $(STAMP) check-ps
	$(BIN)/nbgrader collect $(PS)

# Grade every submitted/*/$(PS)/ in the sandbox (UNSANDBOXED=1 to run without it), from copies read without
# following links, after a pre-flight (the solution must get full marks, the release none); each submission
# within TIME_LIMIT seconds (default: its notebooks' limits + 60). Records the grades and writes feedback/
# and grades.csv as each finishes, then reports/$(PS)/class_summary.{csv,html}.
# STUDENT=<id> regrades that one student; NEW_GRADEBOOK=1 grades into an empty gradebook although another has grades.
grade: $(STAMP) $(MATHJAX) check-ps
	$(BIN)/python -m grader grade $(PS) $(if $(UNSANDBOXED),--unsandboxed,) $(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT),) \
	  $(if $(STUDENT),--student '$(STUDENT)',) $(if $(NEW_GRADEBOOK),--new-gradebook,)

# Return the feedback through the exchange (after grading the written answers in the formgrader), with the late
# penalties recomputed on the final totals; students with an answer awaiting a grader are listed and held back
# unless FORCE=1 (exit status 3 when some were held). STUDENT=<id> for one. Rewrites grades.csv and reports/.
feedback: $(STAMP) $(MATHJAX) check-ps
	$(BIN)/python -m grader feedback $(PS) $(if $(STUDENT),--student '$(STUDENT)',) $(if $(FORCE),--force,)

# grades.csv (a row per student, a column per problem set and per question) and reports/ from the gradebook;
# FORMAT=canvas writes grades-canvas.csv for Canvas's gradebook import as well.
.PHONY: grades roster extend migrate-db
grades: $(STAMP)
	$(BIN)/python -m grader grades --format $(or $(FORMAT),plain) $(if $(OUT),--to '$(OUT)',)

# The class list (CSV: id, first_name, last_name, email[, canvas_id]) into the gradebook.
roster: $(STAMP)
	@test -n "$(FILE)" || { echo "say which file: make roster FILE=class.csv"; exit 2; }
	$(BIN)/python -m grader roster '$(FILE)'

# A later due date for one student, written to course.toml (e.g. UNTIL=2026-12-07T17:00:00Z).
extend: $(STAMP) check-ps
	@test -n "$(STUDENT)" -a -n "$(UNTIL)" || { echo "make extend PS=... STUDENT=<id> UNTIL=2026-12-07T17:00:00Z"; exit 2; }
	$(BIN)/python -m grader extend $(PS) '$(STUDENT)' '$(UNTIL)'

# Copy the whole gradebook in use (or FROM=<url>) into the empty database TO=<url>, and check every table.
migrate-db: $(STAMP)
	@test -n "$(TO)" || { echo "say where: make migrate-db TO=postgresql+psycopg://user@host/db"; exit 2; }
	$(BIN)/python -m grader migrate-db '$(TO)' $(if $(FROM),--from '$(FROM)',)

# Re-resolve the pinned tree from requirements.in (torch stays at the CPU wheel).
lock:
	rm -rf /tmp/rnnlib-lock && $(PYTHON) -m venv /tmp/rnnlib-lock
	/tmp/rnnlib-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Full pinned environment (pip freeze of requirements.in). Regenerate: make lock"; \
	  /tmp/rnnlib-lock/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.txt

clean:
	rm -rf _build submitted autograded feedback gradebook.db reports grades.csv
