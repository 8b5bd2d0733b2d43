"""Keepwell's intent pipeline: MiniLM fine-tuned on the bot's intents, run inside Rasa from an ONNX export.

`encoder` needs only numpy, onnxruntime and tokenizers, so it imports in both environments; `featurizer` and
`classifier` are Rasa components (Python 3.10); `finetune` (`python -m nlu.finetune`) and `export`
(`python -m nlu.export`) need torch and sentence-transformers and run in the Python 3.11 environment.
"""
