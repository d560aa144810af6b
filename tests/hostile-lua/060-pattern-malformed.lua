local x = ("a"):find("[a") --!
