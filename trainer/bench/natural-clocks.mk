# The natural-clock reading system of trainer/README.md (issue 15 §2), rebuilt from nothing:
# six clock sets, 31 probe runs (42,000 steps of 16 clocks: a turn teller, two chains of
# locators, a reader), then the system reading the 1,000 held-out clocks of seed 13 through
# four locators, the teller and eight views. Every run is the README's own line (tenth to
# seventeenth rounds), in the order the README ran them; each saved model is the input of the
# next ones, so the README's figures are this file's outputs.
#
#   make -f trainer/bench/natural-clocks.mk -j2 PT=PIXMO_TRAIN BC=BUILD_CLOCKS OUT=DIR
#   make -f trainer/bench/natural-clocks.mk -j2 ... fresh     # also seeds 29 and 31
#
#   PT   `cargo build --release -p pixmo-trainer` (target/release/pixmo-train; with
#        `--features cuda` and DEVICE=cuda the probe runs on a GPU)
#   BC   `cargo build --release -p pixmo-clocks --example build_clocks`
#   OUT  a folder for the clocks, the models (one folder each), logs/ and the readings
#
# Resumable: a clock set or model exists only once its command has finished (each is written
# to NAME.part and renamed), so `make` after a stop runs what is missing and nothing else.
# Dial boxes found through a chain of locators are kept in OUT/boxes (`--box-cache`, keyed by
# the images and the locators' files: a cached box is the box the chain finds).
#
# On one core, about 14-19 min per 1,000 steps: 10-13 hours of one core for the lineage (with
# -j2 the strands run side by side; the reader's 19,000 steps in a row are the floor). DIV and CLOCK_DIV divide every run's steps and every set's clocks (rounded up), for a
# run that checks the wiring in minutes and measures nothing (trainer/ci.sh: DIV=500
# CLOCK_DIV=100).

PT ?= pixmo-train
BC ?= build_clocks
OUT ?= natural-clocks
DEVICE ?= cpu
DIV ?= 1
CLOCK_DIV ?= 1
PYTHON ?= python3
BENCH := $(dir $(lastword $(MAKEFILE_LIST)))

.DELETE_ON_ERROR:
.PHONY: all fresh

# N steps or N clocks, divided (rounded up).
S = $(shell echo $$(( ($(1) + $(DIV) - 1) / $(DIV) )))
C = $(shell echo $$(( ($(1) + $(CLOCK_DIV) - 1) / $(CLOCK_DIV) )))

# A saved model's stamp: its probe.json, written last.
M = $(OUT)/$(1)/probe.json

EVAL = --eval-data $(OUT)/test1k-scene --eval-split train --eval-count $(call C,1000)
CACHE = --box-cache $(OUT)/boxes
AUG = --augment-turn 6 --augment-scale 0.06 --augment-shift 0.04 --augment-colour 0.15
# The teller's settings (tenth round on): 36 arcs, no reading.
TELLER = --turn-loss 1 --read-loss 0 --turn-bins 36
# The readers' settings (fifteenth round on): minutes, the hour hand's arc, the hour by the
# minute, each training clock augmented afresh.
READER = --truth-upright --minutes --hand-bins 60 --hour-by-minute $(AUG)
CHAIN12 = --dial-crop $(OUT)/loc-h2 --dial-crop $(OUT)/ref-h2 $(CACHE)
CHAIN13 = --dial-crop $(OUT)/loc-h4 --dial-crop $(OUT)/ref-h3 $(CACHE)
CHAIN5 = $(CHAIN13) --dial-crop $(OUT)/ref-h4 --dial-crop $(OUT)/ref-h5

# $(call probe,NAME,THREADS,ARGS): one probe run saved as OUT/NAME, its output in logs/NAME.log.
probe = rm -rf $(OUT)/$(1) $(OUT)/$(1).part && mkdir -p $(OUT)/logs && \
	RAYON_NUM_THREADS=$(2) $(PT) probe --device $(DEVICE) $(3) --save $(OUT)/$(1).part \
	> $(OUT)/logs/$(1).log 2>&1 && mv $(OUT)/$(1).part $(OUT)/$(1) && grep "^{" $(OUT)/logs/$(1).log | tail -n 1 | sed "s|^|$(1): |"

# $(call clocks,NAME,COUNT,SEED): natural benchmark-format clocks with each one's truth and
# scene beside them.
clocks = rm -rf $(OUT)/$(1) $(OUT)/$(1).part && mkdir -p $(OUT)/logs && \
	PIXMO_CLOCK_TRUTH=$(OUT)/$(1).part/clock-truth.jsonl $(BC) $(OUT)/$(1).part $(call C,$(2)) png $(3) \
	natural benchmark > $(OUT)/logs/$(1).log 2>&1 && mv $(OUT)/$(1).part $(OUT)/$(1)

# $(call system,SET,NAME): the system reads SET; predictions in OUT/NAME.jsonl, by pose in
# OUT/NAME.txt.
SYSTEM_MODELS = $(call M,vis-ucjh6) $(call M,tell-arc4) $(call M,loc-h4) $(call M,ref-h3) \
	$(call M,ref-h4) $(call M,ref-h5) $(OUT)/train-scene/clock-truth.jsonl
system = mkdir -p $(OUT)/logs && RAYON_NUM_THREADS=1 $(PT) probe --device $(DEVICE) \
	--init-probe $(OUT)/vis-ucjh6 --data $(OUT)/$(1) --split train --limit $(call C,100) \
	--eval-data $(OUT)/$(1) --eval-split train --eval-count $(call C,1000) $(CHAIN5) \
	--derotate $(OUT)/tell-arc4 --turn-prior $(OUT)/train-scene --minutes --hand-bins 60 \
	--joint --overlap-discount 0.5 --views 8 $(AUG) --steps 0 --predictions $(OUT)/$(2).jsonl.part \
	> $(OUT)/logs/$(2).log 2>&1 && mv $(OUT)/$(2).jsonl.part $(OUT)/$(2).jsonl && \
	$(PYTHON) $(BENCH)by_pose.py $(OUT)/$(2).jsonl $(OUT)/$(1)/clock-truth.jsonl > $(OUT)/$(2).txt && \
	cat $(OUT)/$(2).txt

all: $(OUT)/sys.txt
fresh: $(OUT)/sys.txt $(OUT)/sys-s29.txt $(OUT)/sys-s31.txt

# --- clocks ---------------------------------------------------------------------------------
$(OUT)/test1k-scene/clock-truth.jsonl:
	$(call clocks,test1k-scene,1100,13)
$(OUT)/train-scene/clock-truth.jsonl:
	$(call clocks,train-scene,8000,3)
$(OUT)/train16-scene/clock-truth.jsonl:
	$(call clocks,train16-scene,16000,3)
$(OUT)/train16b-scene/clock-truth.jsonl:
	$(call clocks,train16b-scene,16000,5)
$(OUT)/train16c-scene/clock-truth.jsonl:
	$(call clocks,train16c-scene,16000,7)
$(OUT)/train16d-scene/clock-truth.jsonl:
	$(call clocks,train16d-scene,16000,9)
$(OUT)/test-s29/clock-truth.jsonl:
	$(call clocks,test-s29,1100,29)
$(OUT)/test-s31/clock-truth.jsonl:
	$(call clocks,test-s31,1100,31)

T1K = $(OUT)/test1k-scene/clock-truth.jsonl
T8 = $(OUT)/train-scene/clock-truth.jsonl
T16 = $(OUT)/train16-scene/clock-truth.jsonl
T16B = $(OUT)/train16b-scene/clock-truth.jsonl
T16C = $(OUT)/train16c-scene/clock-truth.jsonl
T16D = $(OUT)/train16d-scene/clock-truth.jsonl

# --- the turn teller (tenth to fourteenth rounds: 8,000 steps) -------------------------------
$(call M,tell-a): $(T8) $(T1K)
	$(call probe,tell-a,1,--data $(OUT)/train-scene --limit $(call C,8000) $(EVAL) --dial-crop truth \
	$(TELLER) --steps $(call S,1500) --eval-every $(call S,250))
$(call M,tell-ar): $(call M,tell-a)
	$(call probe,tell-ar,1,--init-probe $(OUT)/tell-a --data $(OUT)/train-scene --limit $(call C,8000) \
	$(EVAL) --dial-crop truth $(TELLER) --random-turn --steps $(call S,1000) --eval-every $(call S,250))
$(call M,tell-arj): $(call M,tell-ar) $(T16)
	$(call probe,tell-arj,1,--init-probe $(OUT)/tell-ar --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) --dial-crop truth --dial-jitter 0.1 $(TELLER) --random-turn --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,tell-arc): $(call M,tell-arj) $(call M,loc-h2) $(call M,ref-h2)
	$(call probe,tell-arc,1,--init-probe $(OUT)/tell-arj --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN12) $(TELLER) --random-turn --steps $(call S,1000) --eval-every $(call S,500))
$(call M,tell-arc2): $(call M,tell-arc)
	$(call probe,tell-arc2,1,--init-probe $(OUT)/tell-arc --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN12) $(TELLER) --random-turn --lr 3e-4 --steps $(call S,1500) --eval-every $(call S,500))
$(call M,tell-arc3): $(call M,tell-arc2) $(call M,loc-h4) $(call M,ref-h3)
	$(call probe,tell-arc3,1,--init-probe $(OUT)/tell-arc2 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(TELLER) --random-turn --lr 3e-4 --steps $(call S,1000) --eval-every $(call S,500))
$(call M,tell-arc4): $(call M,tell-arc3) $(T16B)
	$(call probe,tell-arc4,1,--init-probe $(OUT)/tell-arc3 --data $(OUT)/train16b-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(TELLER) --random-turn --lr 3e-4 --steps $(call S,1000) --eval-every $(call S,500))

# --- the locators (eleventh to seventeenth rounds: 15,000 steps) -----------------------------
# A heat-map locator on whole images (loc-h ... loc-h4) and linear ones on the crops of the
# locators before them, each at its margin (ref-h ... ref-h5).
LOCATOR = --dial-loss 10 --read-loss 0
$(call M,loc-h): $(T8) $(T1K)
	$(call probe,loc-h,1,--data $(OUT)/train-scene --limit $(call C,8000) $(EVAL) $(LOCATOR) \
	--locator heatmap --steps $(call S,2500) --eval-every $(call S,500))
$(call M,ref-h): $(call M,loc-h) $(T16)
	$(call probe,ref-h,1,--data $(OUT)/train16-scene --limit $(call C,16000) $(EVAL) \
	--dial-crop $(OUT)/loc-h --dial-margin 0.5 $(LOCATOR) --steps $(call S,2000) --eval-every $(call S,500))
$(call M,loc-h2): $(call M,loc-h) $(T16)
	$(call probe,loc-h2,1,--init-probe $(OUT)/loc-h --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(LOCATOR) --locator heatmap --steps $(call S,2000) --eval-every $(call S,500))
$(call M,ref-h2): $(call M,ref-h)
	$(call probe,ref-h2,1,--init-probe $(OUT)/ref-h --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) --dial-crop $(OUT)/loc-h --dial-margin 0.5 $(LOCATOR) --steps $(call S,2000) \
	--eval-every $(call S,500))
$(call M,loc-h3): $(call M,loc-h2)
	$(call probe,loc-h3,1,--init-probe $(OUT)/loc-h2 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(LOCATOR) --locator heatmap --steps $(call S,2000) --eval-every $(call S,500))
$(call M,loc-h4): $(call M,loc-h3)
	$(call probe,loc-h4,1,--init-probe $(OUT)/loc-h3 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(LOCATOR) --locator heatmap --lr 3e-4 --steps $(call S,1500) --eval-every $(call S,500))
$(call M,ref-h3): $(call M,ref-h2) $(call M,loc-h4)
	$(call probe,ref-h3,1,--init-probe $(OUT)/ref-h2 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) --dial-crop $(OUT)/loc-h4 --dial-margin 0.5 $(LOCATOR) --lr 3e-4 --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,ref-h4): $(call M,ref-h3)
	$(call probe,ref-h4,1,--init-probe $(OUT)/ref-h3 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --dial-margin 0.3 $(LOCATOR) --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,ref-h5): $(call M,ref-h4)
	$(call probe,ref-h5,1,--init-probe $(OUT)/ref-h4 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --dial-crop $(OUT)/ref-h4 --dial-margin 0.2 $(LOCATOR) --lr 3e-4 --lr-end 3e-5 \
	--steps $(call S,1000) --eval-every $(call S,500))

# --- the reader (eleventh to seventeenth rounds: 19,000 steps) -------------------------------
# On true crops turned upright first, then on the chains' crops at the truth's turn.
$(call M,vis-ur): $(T8) $(T1K)
	$(call probe,vis-ur,1,--data $(OUT)/train-scene --limit $(call C,8000) $(EVAL) --dial-crop truth \
	--truth-upright --minutes --steps $(call S,2000) --eval-every $(call S,500))
$(call M,vis-ur2): $(call M,vis-ur) $(T16)
	$(call probe,vis-ur2,1,--init-probe $(OUT)/vis-ur --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) --dial-crop truth --truth-upright --minutes --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-urj): $(call M,vis-ur2)
	$(call probe,vis-urj,1,--init-probe $(OUT)/vis-ur2 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) --dial-crop truth --dial-jitter 0.1 --truth-upright --minutes --steps $(call S,1500) \
	--eval-every $(call S,500))
$(call M,vis-ucj): $(call M,vis-urj) $(call M,loc-h2) $(call M,ref-h2)
	$(call probe,vis-ucj,1,--init-probe $(OUT)/vis-urj --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN12) --truth-upright --minutes --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-ucj2): $(call M,vis-ucj)
	$(call probe,vis-ucj2,1,--init-probe $(OUT)/vis-ucj --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN12) --truth-upright --minutes --lr 3e-4 --steps $(call S,1500) --eval-every $(call S,500))
$(call M,vis-ucj4): $(call M,vis-ucj2) $(call M,loc-h4) $(call M,ref-h3)
	$(call probe,vis-ucj4,1,--init-probe $(OUT)/vis-ucj2 --data $(OUT)/train16-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --truth-upright --minutes --lr 3e-4 --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-ucj6): $(call M,vis-ucj4) $(T16B)
	$(call probe,vis-ucj6,1,--init-probe $(OUT)/vis-ucj4 --data $(OUT)/train16b-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --truth-upright --minutes --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,vis-ucj7): $(call M,vis-ucj6)
	$(call probe,vis-ucj7,2,--init-probe $(OUT)/vis-ucj6 --data $(OUT)/train16b-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --truth-upright --minutes --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,vis-ucj9): $(call M,vis-ucj7) $(T16C)
	$(call probe,vis-ucj9,1,--init-probe $(OUT)/vis-ucj7 --data $(OUT)/train16c-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) --truth-upright --minutes --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) \
	--eval-every $(call S,500))
$(call M,vis-ucjh): $(call M,vis-ucj9)
	$(call probe,vis-ucjh,1,--init-probe $(OUT)/vis-ucj9 --data $(OUT)/train16c-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(READER) --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-ucjh2): $(call M,vis-ucjh) $(T16D)
	$(call probe,vis-ucjh2,1,--init-probe $(OUT)/vis-ucjh --data $(OUT)/train16d-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(READER) --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-ucjh3): $(call M,vis-ucjh2)
	$(call probe,vis-ucjh3,2,--init-probe $(OUT)/vis-ucjh2 --data $(OUT)/train16c-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(READER) --lr 3e-4 --lr-end 3e-5 --steps $(call S,1000) --eval-every $(call S,500))
$(call M,vis-ucjh4): $(call M,vis-ucjh3)
	$(call probe,vis-ucjh4,2,--init-probe $(OUT)/vis-ucjh3 --data $(OUT)/train16d-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(READER) --lr 3e-4 --lr-end 3e-5 --steps $(call S,2000) --eval-every $(call S,500))
$(call M,vis-ucjh5): $(call M,vis-ucjh4)
	$(call probe,vis-ucjh5,2,--init-probe $(OUT)/vis-ucjh4 --data $(OUT)/train16c-scene --limit $(call C,16000) \
	$(EVAL) $(CHAIN13) $(READER) --lr 3e-4 --lr-end 3e-5 --steps $(call S,2000) --eval-every $(call S,500))
# The last reader: on the crops of the chain of four (8,000 of seed 9's clocks).
$(call M,vis-ucjh6): $(call M,vis-ucjh5) $(call M,ref-h5)
	$(call probe,vis-ucjh6,2,--init-probe $(OUT)/vis-ucjh5 --data $(OUT)/train16d-scene --limit $(call C,8000) \
	$(EVAL) $(CHAIN5) $(READER) --lr 2e-4 --lr-end 2e-5 --steps $(call S,1000) --eval-every $(call S,500))

# --- the system -------------------------------------------------------------------------------
$(OUT)/sys.txt: $(SYSTEM_MODELS) $(T1K)
	$(call system,test1k-scene,sys)
$(OUT)/sys-s29.txt: $(SYSTEM_MODELS) $(OUT)/test-s29/clock-truth.jsonl
	$(call system,test-s29,sys-s29)
$(OUT)/sys-s31.txt: $(SYSTEM_MODELS) $(OUT)/test-s31/clock-truth.jsonl
	$(call system,test-s31,sys-s31)
