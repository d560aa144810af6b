error() --!
