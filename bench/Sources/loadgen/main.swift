print("loadgen: not written yet")
