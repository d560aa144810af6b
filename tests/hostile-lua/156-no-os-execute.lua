os.execute("touch owned") --!
