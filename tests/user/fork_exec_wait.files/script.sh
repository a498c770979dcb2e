#!/init child
