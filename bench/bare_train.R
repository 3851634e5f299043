# Bare Keras from R: what a learner would run on this machine themselves, with R, reticulate and the R engine's
# Python (RETICULATE_PYTHON). Same data, split, model, training and epochs as the platform's R engine: the task's
# training split with the harness's 10% held out (NumPy's default_rng(0) permutation), the solution's
# build_model(spec) and train(model, data, spec), then R² of its predictions on the test rows. Prints the metric
# and the timings as bench/bare_train.py does:
#
#     RETICULATE_PYTHON=RUNTIME/venv-r/bin/python Rscript --vanilla bench/bare_train.R DATASET_DIR SOLUTION.R \
#         EPOCHS BATCH SPEC_JSON
started <- Sys.time()
since <- function(t) as.numeric(difftime(Sys.time(), t, units = "secs"))
args <- commandArgs(trailingOnly = TRUE)
dataset <- args[[1]]
solution <- args[[2]]
suppressPackageStartupMessages(library(reticulate))
keras <- reticulate::import("keras")
np <- reticulate::import("numpy")
json <- reticulate::import("json")
marks <- list(import = since(started))

data_started <- Sys.time()
spec <- json$loads(args[[5]])
spec$epochs <- as.integer(args[[3]])
spec$batch_size <- as.integer(args[[4]])
keras$utils$set_random_seed(0L)
with_npz <- function(path, name) {
  archive <- np$load(path, allow_pickle = FALSE)
  on.exit(archive$close())
  archive$get(name)
}
x <- with_npz(file.path(dataset, "train.npz"), "x")
y <- as.numeric(with_npz(file.path(dataset, "train.npz"), "y"))
order <- as.integer(np$random$default_rng(0L)$permutation(length(y))) + 1L
cut <- as.integer(length(y) * 0.9)
train_rows <- order[seq_len(cut)]
val_rows <- order[(cut + 1):length(y)]
data <- list(
  x_train = x[train_rows, , drop = FALSE], y_train = y[train_rows],
  x_val = x[val_rows, , drop = FALSE], y_val = y[val_rows]
)
x_test <- with_npz(file.path(dataset, "test_inputs.npz"), "x")
y_test <- as.numeric(with_npz(file.path(dataset, "labels", "test_labels.npz"), "y"))
marks$data <- since(data_started)

env <- new.env(parent = globalenv())
sys.source(solution, envir = env)
model <- env$build_model(spec)
fit_started <- Sys.time()
trained <- if (is.function(env$train)) env$train(model, data, spec) else model
if (is.null(trained)) trained <- model
marks$fit <- since(fit_started)

predict_started <- Sys.time()
predicted <- as.numeric(trained$predict(np$array(x_test, dtype = "float32"), batch_size = 512L, verbose = 0L))
r2 <- 1 - sum((predicted - y_test)^2) / sum((y_test - mean(y_test))^2)
marks$predict <- since(predict_started)
cat(sprintf("bare r2 %.4f in %.1fs\n", r2, since(started)))
cat("bare timings ", json$dumps(lapply(marks, function(v) round(v, 3))), "\n", sep = "")
