"""Writes the small seed corpus of the fuzz targets (Fuzz/Corpus/) from the test fixtures:
the GGUF and safetensors fixtures as they are, each config.json, and each fixture tokenizer cut
down to its first 256 tokens and 64 merges (same normalizer, pre-tokenizer, decoder and
post-processor), so that one input stays a few KB, and the chat templates of
Tests/Fixtures/chat-templates under 8 KB. Run from the repository root."""
import json
import pathlib
import shutil

root = pathlib.Path(".")
fixtures = root / "Tests/Fixtures"
corpus = root / "Fuzz/Corpus"
for name in ["gguf", "safetensors", "tokenizer", "config", "template"]:
    (corpus / name).mkdir(parents=True, exist_ok=True)

for path in sorted((fixtures / "gguf").glob("*.gguf")):
    shutil.copy(path, corpus / "gguf" / path.name)
for path in [fixtures / "safetensors/dtypes.safetensors", *sorted((fixtures / "safetensors/sharded").glob("*.safetensors"))]:
    shutil.copy(path, corpus / "safetensors" / path.name)
for path in sorted((fixtures / "models").glob("*/config.json")):
    shutil.copy(path, corpus / "config" / f"{path.parent.name}.json")

for path in sorted((fixtures / "tokenizers").glob("*.tokenizer.json")):
    if path.stat().st_size > 100_000:
        continue
    spec = json.loads(path.read_text())
    model = spec["model"]
    model["vocab"] = {token: i for token, i in model["vocab"].items() if i < 256}
    merges = model.get("merges", [])[:64]
    model["merges"] = merges
    spec["added_tokens"] = [t for t in spec.get("added_tokens", [])][:4]
    (corpus / "tokenizer" / path.name).write_text(json.dumps(spec, ensure_ascii=False, separators=(",", ":")))

for path in sorted((fixtures / "chat-templates/templates").glob("*.jinja")):
    if path.stat().st_size <= 8_000:
        shutil.copy(path, corpus / "template" / path.name)
