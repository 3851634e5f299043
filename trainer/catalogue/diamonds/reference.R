# Diamond prices with Keras from R: a reference solution (passes).
# The platform calls build_model(spec), then train(model, data, spec); data arrives as R values (x_train an R
# matrix of the 9 inputs, y_train an R vector of prices), and Keras wants NumPy: np$array(..., dtype = "float32").
keras <- reticulate::import("keras")
np <- reticulate::import("numpy", convert = FALSE)

build_model <- function(spec) {
  keras$Sequential(list(
    keras$Input(shape = list(length(spec$features))),
    keras$layers$Normalization(name = "standardise"),  # adapted to the training inputs in train()
    keras$layers$Dense(64L, activation = "relu"),
    keras$layers$Dense(64L, activation = "relu"),
    keras$layers$Dense(32L, activation = "relu"),
    keras$layers$Dense(1L)
  ), name = "price_net")
}

train <- function(model, data, spec) {
  x <- np$array(data$x_train, dtype = "float32")
  x_val <- np$array(data$x_val, dtype = "float32")
  # Prices span $326 to $18,823: the network learns standardised prices, and a Rescaling layer turns them back.
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
