# The R engine's side of the sandbox harness. Runs INSIDE the sandbox, next to the learner's R script.
#
# Started as `Rscript --vanilla harness.R <folder of harness.py>` with RETICULATE_PYTHON (the R runtime's Python)
# and KERAS_BACKEND in the environment from the first instruction. It imports the Python harness through
# reticulate, so Keras, the budgets (epochs, parameters, the fit guard) and every check are the Python
# harness's, in the same interpreter as the learner's R code: this file only loads the R script and hands its
# build_model(spec) (and optional train(model, data, spec)) to harness.train as Python callables. Prediction
# runs harness.predict unchanged. Nothing here is trusted by the platform, exactly as for harness.py.
# Base R and reticulate only.

READY_LINE <- "skillproof-harness: ready"
SUBMISSION <- file.path(Sys.getenv("SKILLPROOF_JOB", "/job"), "submission.R")

args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(reticulate))
harness <- reticulate::import_from_path("harness", path = args[[1]], convert = FALSE)
invisible(harness$R_VERSIONS$update(reticulate::dict(
  r = paste(R.version$major, R.version$minor, sep = "."),
  reticulate = as.character(utils::packageVersion("reticulate"))
)))

# The learner's script, loaded into its own environment: a parse error is theirs (syntax_error), and so is an
# error while it runs (learner_error); a script without build_model cannot be trained.
load_r_submission <- function() {
  parsed <- tryCatch(parse(SUBMISSION, keep.source = FALSE), error = function(e) e)
  if (inherits(parsed, "error")) {
    return(list(kind = "syntax_error", message = paste("Your R script does not parse:", conditionMessage(parsed))))
  }
  env <- new.env(parent = globalenv())
  failed <- tryCatch({
    for (expression in parsed) eval(expression, envir = env)
    NULL
  }, error = function(e) conditionMessage(e))
  if (!is.null(failed)) {
    return(list(kind = "learner_error", message = paste("Your R script failed while loading:", failed)))
  }
  if (!is.function(env$build_model)) {
    return(list(
      kind = "missing_build_model",
      message = "Define a function build_model <- function(spec) { ... } that returns a Keras model."
    ))
  }
  # Called from Python with Python values, converted for R (a NumPy array arrives as an R matrix or vector);
  # what they return goes back as Python objects (a Keras model stays the model).
  list(
    build_model = reticulate::r_to_py(env$build_model, convert = TRUE),
    train = if (is.function(env$train)) reticulate::r_to_py(env$train, convert = TRUE) else NULL
  )
}

invisible(harness$warm())
cat(READY_LINE, "\n", sep = "")
flush(stdout())
stdin <- file("stdin")
line <- readLines(stdin, n = 1, warn = FALSE)
close(stdin)
loader <- reticulate::py_func(function() load_r_submission())
status <- reticulate::py_to_r(harness$run(if (length(line)) line else "", loader))
quit(save = "no", status = status)
