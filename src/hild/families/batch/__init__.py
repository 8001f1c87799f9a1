"""Full-batch learning in high dimensions: replica-symmetric fixed points of generalised linear models on the
Gaussian covariate model (arXiv 2102.08127, 2006.06560) solved for any convex loss and spectrum, and empirical
risk minimisation at finite d on the same variables; the Gardner capacity of the perceptron against exact storage
at finite d."""
from hild.core import lazy
from hild.families.batch.classification import Classification
from hild.families.batch.gardner import Gardner, gardner_capacity
from hild.families.batch.hermite import hermite_coefficients
from hild.families.batch.random_features import RandomFeatures
from hild.families.batch.ridge import Ridge

__getattr__, __dir__ = lazy.attach(__name__, {".glm": ["Spectrum", "fixed_points"],
                                              ".prox": ["Hinge", "Logistic", "Loss", "Smooth", "Square", "loss"],
                                              ".random_features": ["marchenko_pastur"],
                                              ".ridge": ["deterministic_equivalent", "power_law", "ridge_fit"],
                                              ".solver": ["Settings", "Solution", "continuation", "solve"]})

__all__ = ["Classification", "Gardner", "Hinge", "Logistic", "Loss", "RandomFeatures", "Ridge", "Settings", "Smooth",
           "Solution", "Spectrum", "Square", "continuation", "deterministic_equivalent", "fixed_points",
           "gardner_capacity", "hermite_coefficients", "loss", "marchenko_pastur", "power_law", "ridge_fit", "solve"]
