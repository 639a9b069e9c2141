package risk

// Measured is the measured quantiles, for the basis test (package
// risk_test, which needs evaluate, which needs risk).
var Measured = measured
