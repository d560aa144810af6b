type = nil
pools {} --!
