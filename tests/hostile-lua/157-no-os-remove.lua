os.remove("owned") --!
