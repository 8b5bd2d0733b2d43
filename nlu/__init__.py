"""Rasa NLU components that run inside the Rasa server (Python 3.10): MiniLM sentence features from an ONNX export.

`encoder` needs only numpy, onnxruntime and tokenizers, so it imports in both environments; `featurizer` needs Rasa;
`export` (`python -m nlu.export`) needs torch and sentence-transformers and runs in the Python 3.11 environment.
"""
