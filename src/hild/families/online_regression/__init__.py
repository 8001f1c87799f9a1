"""Online linear regression: the smallest model on the protocol, and the example of docs/adding-a-model.md."""
from hild.families.online_regression.scenario import OnlineRegression

__all__ = ["OnlineRegression"]
