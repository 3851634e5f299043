# Diamond prices with Keras from R: a starter that runs but does not pass. Make it pass.
#
# The platform sources this script, then calls build_model(spec) and train(model, data, spec).
# - spec is an R list: spec$features (the 9 input names, in column order), spec$epochs, spec$batch_size...
# - data is an R list of R values converted from NumPy by reticulate: data$x_train is a numeric matrix
#   (one row per diamond, one column per feature), data$y_train a numeric vector of prices in dollars, and
#   data$x_val / data$y_val the held-out 10%.
# - Keras does not take a bare R matrix: hand it NumPy arrays, np$array(x, dtype = "float32").
# - Return the trained model: its predictions on the hidden test diamonds must be prices in dollars.
keras <- reticulate::import("keras")
np <- reticulate::import("numpy", convert = FALSE)

build_model <- function(spec) {
  # A linear model: price as a weighted sum of the (standardised) inputs. Prices are not linear in carat...
  keras$Sequential(list(
    keras$Input(shape = list(length(spec$features))),
    keras$layers$Normalization(name = "standardise"),
    keras$layers$Dense(1L)
  ), name = "linear_price")
}

train <- function(model, data, spec) {
  x <- np$array(data$x_train, dtype = "float32")  # R matrix -> NumPy float32 array
  x_val <- np$array(data$x_val, dtype = "float32")
  # Work in R first: a summary of the inputs, as a data frame with their names.
  inputs <- as.data.frame(data$x_train)
  names(inputs) <- unlist(spec$features)
  print(summary(inputs[, c("carat", "cut", "color", "clarity")]))
  # Standardise the target in R; a Rescaling layer turns predictions back into dollars.
  centre <- mean(data$y_train)
  spread <- sd(data$y_train)
  y <- np$array((data$y_train - centre) / spread, dtype = "float32")
  y_val <- np$array((data$y_val - centre) / spread, dtype = "float32")
  model$get_layer("standardise")$adapt(x)
  model$compile(optimizer = keras$optimizers$Adam(learning_rate = 0.003), loss = "mean_squared_error")
  model$fit(x, y, validation_data = reticulate::tuple(x_val, y_val), epochs = as.integer(spec$epochs),
            batch_size = as.integer(spec$batch_size), verbose = 2L)
  # Back to dollars, kept within the market's range: a few diamonds have impossible sizes (0 mm, 58.9 mm), and a
  # network must not answer them with a price no diamond here has.
  keras$Sequential(list(
    model,
    keras$layers$Rescaling(scale = spread, offset = centre),
    keras$layers$ReLU(max_value = 20000)
  ), name = "price_in_dollars")
}
