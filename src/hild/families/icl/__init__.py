"""In-context learning of linear regression: the task-diversity threshold of Raventos, Paul, Chen, Ganguli
(arXiv 2306.15063) through its two Bayes estimators, dMMSE (the pool's posterior mean) and ridge (the Gaussian
prior's), per context position on pool and new tasks (`icl.task_diversity`); and the linear-attention model of
Lu, Letey, Zavatone-Veth, Maiti, Pehlevan (arXiv 2405.11751), its d -> infinity errors against the exact finite-d
ridge solution (`icl.linear_attention`); a small transformer pretrained at pool size M against both Bayes
references (`icl.transformer`)."""
from hild.families.icl.linear_attention import LinearAttention
from hild.families.icl.task_diversity import TaskDiversity
from hild.families.icl.transformer import Transformer

__all__ = ["LinearAttention", "TaskDiversity", "Transformer"]
