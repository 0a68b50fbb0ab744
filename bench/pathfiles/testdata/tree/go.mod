module github.com/alisw/alilogin

go 1.22
