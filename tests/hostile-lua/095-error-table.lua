error({}) --!
