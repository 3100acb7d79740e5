print("json-bench: not written yet")
